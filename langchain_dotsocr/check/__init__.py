"""Is the server right? ``dotsocr check``: whether a page fits its context (:mod:`.server`)
and, with ``read=True``, whether it reads the bundled reference pages right: the pages and
their truth (:mod:`.reference`), sent and scored (:mod:`.asking`, :mod:`.reading`, and for the
prompts of ``text_layer="auto"`` :mod:`.layered`; :mod:`.score`), judged per symptom
(:mod:`.verdict`) and reported (:mod:`.report`)."""

from .layered import Grounded, LayoutOnly
from .reading import ReadCheck, ReadPage
from .reference import export_reference
from .server import ServerCheck, check_server, report
from .verdict import Verdict

__all__ = [
    "Grounded",
    "LayoutOnly",
    "ReadCheck",
    "ReadPage",
    "ServerCheck",
    "Verdict",
    "check_server",
    "export_reference",
    "report",
]
