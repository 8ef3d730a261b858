"""The investment committee: proposals, meetings, votes, decisions, review."""
