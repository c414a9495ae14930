"""Sub-commands of ``hinge-imu``; one module each, discovered by ``cli.py``."""
