"""The shape of an assembly step: what it does when a page arrives and before it leaves."""

from __future__ import annotations

from .page import Page


class Step:
    """One job of the assembly, over pages that arrive in order.

    A step may keep state across pages (the section path) and may ask to see the next page
    before a page leaves (the page label checks the next page's printed number). The builder
    holds back at most one page, and only while some step asks for it.
    """

    def arrive(self, page: Page) -> None:
        """Work on ``page`` when it arrives, after every earlier page arrived."""

    def wants_next(self, page: Page) -> bool:
        """Whether ``page`` must wait for the next page before it leaves."""
        return False

    def release(self, page: Page, following: Page | None) -> None:
        """Finish ``page`` as it leaves; ``following`` is the next page when it waited for it
        and the next page came (``None`` at the end of the source or after a failed page)."""
