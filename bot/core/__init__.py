"""The pure core: severity policy, RACI resolution, deadlines and rotations.

Plain functions over plain data: no Slack, no database and no clock (the time is
always an argument, and always timezone-aware).
"""
