"""The Qt-free application layer: what the user does to the open case, independent of any widget.

``CaseSession`` (labels, AI provenance, edit tracking, autosave policy, "unsaved changes?") and
``EditSession`` (paint settings, active tool, strokes, label operations). ``app.qt`` turns widget events
into calls on these and shows what they report; the sessions are tested without Qt.
"""

from app.session.case_session import CaseSession, Question
from app.session.edit_session import TOOLS, EditOutcome, EditSession
from app.session.review_session import ReviewSession
from app.session.text import plural

__all__ = ["TOOLS", "CaseSession", "EditOutcome", "EditSession", "Question", "ReviewSession", "plural"]
