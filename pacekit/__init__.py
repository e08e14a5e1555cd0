"""pacekit: self-supervised video representation learning by pace prediction, as a teaching kit.

The paper is Wang, Jiao and Liu, "Self-supervised Video Representation Learning by Pace
Prediction", ECCV 2020. Start with :mod:`pacekit.pace`, the heart of it.
"""

__version__ = "0.1.0"
