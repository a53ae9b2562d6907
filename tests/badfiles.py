"""Bad input made on the spot: encrypted, damaged and hostile files for the page layer tests.

Every helper builds bytes in memory from tests.fakevllm's good documents (or from nothing), so
no binary fixture is committed.

``encrypt_pdf`` implements the PDF standard security handler, revision 3 (RC4, 128-bit key),
as ISO 32000-1 section 7.6.3 describes it (algorithms 1, 2, 3 and 5), for the simple PDFs
``make_pdf`` writes: strings and streams of every object are encrypted with the object's key.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
import zlib

from tests.fakevllm.scene import write_pdf

# The 32 padding bytes of the standard security handler (ISO 32000-1, algorithm 2, step a).
_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
_KEY_BYTES = 16  # 128-bit RC4
_PERMISSIONS = -4  # every permission granted


def rc4(key: bytes, data: bytes) -> bytes:
    """RC4 (ARC4): the cipher of the PDF standard security handler, revisions 2 and 3."""
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _padded(password: str) -> bytes:
    return (password.encode("latin-1") + _PAD)[:32]


def _md5_50(digest: bytes) -> bytes:
    for _ in range(50):
        digest = hashlib.md5(digest[:_KEY_BYTES]).digest()
    return digest[:_KEY_BYTES]


def _rc4_20(key: bytes, data: bytes) -> bytes:
    data = rc4(key, data)
    for i in range(1, 20):
        data = rc4(bytes(b ^ i for b in key), data)
    return data


def _owner_entry(owner: str, user: str) -> bytes:  # algorithm 3
    key = _md5_50(hashlib.md5(_padded(owner or user)).digest())
    return _rc4_20(key, _padded(user))


def _file_key(user: str, o_entry: bytes, file_id: bytes) -> bytes:  # algorithm 2
    seed = _padded(user) + o_entry + struct.pack("<i", _PERMISSIONS) + file_id
    return _md5_50(hashlib.md5(seed).digest())


def _user_entry(key: bytes, file_id: bytes) -> bytes:  # algorithm 5
    return _rc4_20(key, hashlib.md5(_PAD + file_id).digest()) + bytes(16)


def _object_key(key: bytes, number: int) -> bytes:  # algorithm 1, generation 0
    return hashlib.md5(key + number.to_bytes(3, "little") + b"\x00\x00").digest()[:16]


def split_objects(pdf: bytes) -> tuple[list[bytes], int]:
    """The object bodies of a PDF with a classic xref table (as make_pdf writes), and the root.

    Objects are cut at the offsets of the xref table, so binary stream data is never scanned.
    """
    xref = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    table = pdf[xref:]
    count = int(re.match(rb"xref\s+0\s+(\d+)", table).group(1))  # type: ignore[union-attr]
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n", table)][: count - 1]
    ends = [*offsets[1:], xref]
    bodies = []
    for number, (start, end) in enumerate(zip(offsets, ends, strict=True), start=1):
        chunk = pdf[start:end]
        head = f"{number} 0 obj\n".encode()
        assert chunk.startswith(head) and chunk.endswith(b"\nendobj\n"), number
        bodies.append(chunk[len(head) : -len(b"\nendobj\n")])
    root = int(re.search(rb"/Root (\d+) 0 R", table).group(1))  # type: ignore[union-attr]
    return bodies, root


_HEX_STRING = re.compile(rb"(?<![<])<([0-9A-Fa-f]*)>(?!>)")
_LITERAL_STRING = re.compile(rb"\(([^()\\]*)\)")


def encrypt_pdf(pdf: bytes, user_password: str, owner_password: str = "owner") -> bytes:
    """``pdf`` (as make_pdf writes it) encrypted with RC4-128, standard security handler R3.

    An empty ``user_password`` gives a PDF that opens without a password (only the owner's
    permissions are protected), as many "secured" PDFs in the wild are.
    """
    bodies, root = split_objects(pdf)
    file_id = hashlib.md5(pdf).digest()
    o_entry = _owner_entry(owner_password, user_password)
    key = _file_key(user_password, o_entry, file_id)
    u_entry = _user_entry(key, file_id)

    encrypted = []
    for number, body in enumerate(bodies, start=1):
        obj_key = _object_key(key, number)
        head, sep, rest = body.partition(b"\nstream\n")

        def hex_string(m: re.Match[bytes], obj_key: bytes = obj_key) -> bytes:
            return b"<" + rc4(obj_key, bytes.fromhex(m.group(1).decode())).hex().encode() + b">"

        def literal_string(m: re.Match[bytes], obj_key: bytes = obj_key) -> bytes:
            return b"<" + rc4(obj_key, m.group(1)).hex().encode() + b">"

        head = _LITERAL_STRING.sub(literal_string, _HEX_STRING.sub(hex_string, head))
        if sep:
            data, end = rest[: -len(b"\nendstream")], b"\nendstream"
            assert rest.endswith(end)
            body = head + sep + rc4(obj_key, data) + end
        else:
            body = head
        encrypted.append(body)
    encrypt_dict = (
        f"<< /Filter /Standard /V 2 /R 3 /Length 128 /P {_PERMISSIONS} "
        f"/O <{o_entry.hex()}> /U <{u_entry.hex()}> >>"
    ).encode()
    encrypted.append(encrypt_dict)
    ident = file_id.hex()
    return write_pdf(encrypted, root, f"/Encrypt {len(encrypted)} 0 R /ID [<{ident}> <{ident}>] ")


def without_page_object(pdf: bytes, page: int) -> bytes:
    """``pdf`` with page ``page``'s entry in /Kids pointing at an object that does not exist.

    A damaged file as found in the wild (a lost object): the other pages still load.
    """
    bodies, root = split_objects(pdf)
    for i, body in enumerate(bodies):
        m = re.search(rb"/Kids \[([^\]]*)\]", body)
        if m and b"/Type /Pages" in body:
            refs = m.group(1).split(b" R")
            refs = [r.strip() for r in refs if r.strip()]
            refs[page] = f"{len(bodies) + 50} 0".encode()
            kids = b" ".join(r + b" R" for r in refs)
            bodies[i] = body[: m.start(1)] + kids + body[m.end(1) :]
            return write_pdf(bodies, root)
    raise AssertionError("no page tree found")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    """A PNG written by hand: any header, even a lying one, over ``rows`` (with filter bytes)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def png_bomb(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims ``width`` x ``height`` RGB pixels."""
    return png(width, height, 8, 2, b"\x00" * 64)


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("notes.txt", "not a document")
    return buffer.getvalue()
