import sys

from hinge_imu.cli import main

sys.exit(main())
