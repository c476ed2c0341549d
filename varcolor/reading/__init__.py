"""Cues read from what a user gives: a marked copy of the photo (marks), a points file
(pointfiles), a colour photo of the same scene matched to the gray (matching)."""
