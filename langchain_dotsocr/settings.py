"""Every setting of the loader and parser, with defaults, checks and environment fallbacks."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from .budget import DEFAULT_MAX_TOKENS, MAX_PIXELS, MIN_PIXELS
from .crops import Describer
from .encode import ImageFormat
from .prompts import CATEGORIES, PAGE_FURNITURE, PromptMode

Mode = Literal["element", "page", "single", "chunk"]
#: A counter of tokens: the embedding model's, for chunk sizes.
LengthFunction = Callable[[str], int]
OnError = Literal["raise", "skip", "mark"]
#: Where a PDF page's text comes from: its own text layer where trusted, or the model alone.
TextLayer = Literal["auto", "off"]

DEFAULT_BASE_URL = "http://localhost:8000/v1"
#: ``images="base64"`` puts crops in the metadata; any other string is a folder.
BASE64 = "base64"
#: Chunk sizes in tokens (``mode="chunk"`` and :class:`~langchain_dotsocr.DotsOCRChunker`).
DEFAULT_CHUNK_SIZE = 512
DEFAULT_MIN_CHUNK_SIZE = 64


class DotsOCRSettings(BaseModel):
    """Settings shared by :class:`DotsOCRParser` and :class:`DotsOCRLoader`.

    ``base_url``, ``api_key`` and ``model`` fall back to ``DOTSOCR_BASE_URL``,
    ``DOTSOCR_API_KEY`` and ``DOTSOCR_MODEL``. ``base_url`` takes one URL or several (a list,
    or one string with commas): one URL stays a string, several become a tuple.
    ``max_concurrency=None`` (the default) lets the loader find each server's capacity.
    ``chunk_size``, ``chunk_overlap``, ``min_chunk_size``, ``length_function`` and
    ``contextualize`` apply to ``mode="chunk"`` (see :class:`~langchain_dotsocr.DotsOCRChunker`);
    ``chunk_size`` counts the embedding model's tokens, ``max_tokens`` the dots.ocr answer's.
    ``text_layer="auto"`` takes a PDF page's text from its own text layer where the layer is
    trusted (the model gives the layout, tables and formulas); ``"off"`` has the model read
    every word (images and scans without a layer are read so under either).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str | tuple[str, ...] = Field(
        default_factory=lambda: os.environ.get("DOTSOCR_BASE_URL") or DEFAULT_BASE_URL,
        validate_default=True,
    )
    api_key: SecretStr | None = Field(
        default_factory=lambda: SecretStr(k) if (k := os.environ.get("DOTSOCR_API_KEY")) else None
    )
    model: str | None = Field(default_factory=lambda: os.environ.get("DOTSOCR_MODEL") or None)
    max_model_len: int | None = Field(default=None, gt=0)
    prompt_mode: PromptMode = "layout_all"
    text_layer: TextLayer = "auto"
    mode: Mode = "element"
    dpi: float = Field(default=200, gt=0, le=1200)
    min_pixels: int = Field(default=MIN_PIXELS, gt=0)
    max_pixels: int = Field(default=MAX_PIXELS, gt=0)
    pages: tuple[int, ...] | None = None
    max_tokens: int = Field(default=DEFAULT_MAX_TOKENS, gt=0)
    temperature: float = Field(default=0.1, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    exclude_categories: tuple[str, ...] | None = None
    downscale_to_fit: bool = True
    sanitize_tables: bool = True
    on_error: OnError = "raise"
    max_concurrency: int | None = Field(default=None, ge=1)
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=60.0, gt=0)
    page_timeout: float = Field(default=600.0, gt=0)
    max_retries: int = Field(default=5, ge=1)
    retry_backoff: float = Field(default=0.5, ge=0)
    password: SecretStr | None = None
    image_format: ImageFormat = "png"
    jpeg_quality: int = Field(default=90, ge=1, le=100)
    cache_dir: str | None = None
    show_progress: bool = False
    images: str | None = None
    image_categories: tuple[str, ...] = ("Picture",)
    # An arbitrary object (a chat model may hold a key): never in repr, dumps or cache keys.
    describe_pictures: Describer | None = Field(default=None, repr=False, exclude=True)
    ocr_pictures: bool = False
    merge_tables: bool = True
    chunk_size: int = Field(default=DEFAULT_CHUNK_SIZE, gt=0)
    chunk_overlap: int = Field(default=0, ge=0)
    min_chunk_size: int = Field(default=DEFAULT_MIN_CHUNK_SIZE, ge=0)
    # A function (maybe a tokenizer's bound method): never in repr, dumps or cache keys.
    length_function: LengthFunction | None = Field(default=None, repr=False, exclude=True)
    contextualize: bool = True

    @model_validator(mode="after")
    def _chunks(self) -> DotsOCRSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        if self.mode == "chunk" and self.prompt_mode != "layout_all":
            raise ValueError('mode="chunk" groups layout elements: use prompt_mode="layout_all"')
        return self

    @field_validator("base_url", mode="before")
    @classmethod
    def _urls(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, (list, tuple)):
            urls = tuple(str(u).strip().rstrip("/") for u in value if str(u).strip())
            if not urls:
                raise ValueError("give at least one URL")
            if len(set(urls)) < len(urls):
                raise ValueError("a URL is given twice")
            return urls[0] if len(urls) == 1 else urls
        return value

    @property
    def base_urls(self) -> tuple[str, ...]:
        """The servers' URLs, in the order given."""
        return (self.base_url,) if isinstance(self.base_url, str) else self.base_url

    @field_validator("cache_dir", "images", mode="before")
    @classmethod
    def _path_to_str(cls, value: object) -> object:
        value = os.fspath(value) if isinstance(value, os.PathLike) else value
        if value == "":
            raise ValueError('give "base64", a folder, or None')
        return os.path.expanduser(value) if isinstance(value, str) else value

    @field_validator("image_categories", mode="after")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}: use some of {list(CATEGORIES)}")
        return value

    @property
    def image_folder(self) -> str | None:
        """The folder crops are written to (``images=FOLDER``), or None."""
        return None if self.images in (None, BASE64) else self.images

    @field_validator("pages", "exclude_categories", "image_categories", mode="before")
    @classmethod
    def _to_tuple(cls, value: object) -> object:
        if isinstance(value, (str, bytes)):
            raise ValueError("give a list, not a single string")
        if isinstance(value, Sequence) or (value is not None and hasattr(value, "__iter__")):
            return tuple(value)
        return value

    def excluded(self) -> frozenset[str]:
        """Categories left out: the setting, or page headers/footers outside element mode."""
        if self.exclude_categories is not None:
            return frozenset(self.exclude_categories)
        return frozenset() if self.mode == "element" else frozenset(PAGE_FURNITURE)


class DotsOCROptions(TypedDict, total=False):
    """Keyword arguments of :class:`DotsOCRParser` and :class:`DotsOCRLoader`.

    Each is described on :class:`DotsOCRSettings` and in the README's settings table.
    """

    base_url: str | Sequence[str]
    api_key: str | SecretStr | None
    model: str | None
    max_model_len: int | None
    prompt_mode: PromptMode
    text_layer: TextLayer
    mode: Mode
    dpi: float
    min_pixels: int
    max_pixels: int
    pages: Sequence[int] | None
    max_tokens: int
    temperature: float
    top_p: float
    exclude_categories: Sequence[str] | None
    downscale_to_fit: bool
    sanitize_tables: bool
    on_error: OnError
    max_concurrency: int | None
    connect_timeout: float
    read_timeout: float
    page_timeout: float
    max_retries: int
    retry_backoff: float
    password: str | SecretStr | None
    image_format: ImageFormat
    jpeg_quality: int
    cache_dir: str | os.PathLike[str] | None
    show_progress: bool
    images: str | os.PathLike[str] | None
    image_categories: Sequence[str]
    describe_pictures: Describer | None
    ocr_pictures: bool
    merge_tables: bool
    chunk_size: int
    chunk_overlap: int
    min_chunk_size: int
    length_function: LengthFunction | None
    contextualize: bool
