"""Cues on keyframes: a folder of cue files named by frame index, read by the cue source
``keyframes`` (:mod:`varcolor.sources.keyframes`, where the reading lives)."""

from __future__ import annotations

from ..sources.keyframes import KeyframeCue, keyframe_kinds, read_cue_folder

__all__ = ["KeyframeCue", "read_cue_folder", "keyframe_kinds"]
