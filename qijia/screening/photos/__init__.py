"""Near-duplicate photographs: fingerprints, a Hamming index, and geometric verification.

The spec's rule: two photos are the same photograph when one was made from the other by
re-encoding, a format change, resizing, cropping that keeps >= 80% of the area, brightness or
contrast +-25%, greyscale, a horizontal mirror or stripped metadata; different shots of a similar
scene are not. One global perceptual hash cannot decide that (a 80% crop moves every DCT
coefficient; a mirror flips half of them; a neighbouring shot can hash closer than a crop), so the
decision has two stages:

1. Candidates. Each photo gets 64-bit DCT hashes (pHash) of its whole frame and of ten sub-windows
   that a >= 80%-area crop roughly equals (corners, centre, sides), for the picture and its
   mirror image. Windows of one photo against windows of the other find crops; the mirror codes
   find mirror images. Codes go in a multi-index hash table (``hashindex``: the codes cut into
   substrings, each probed with a few flipped bits), which returns every code within the Hamming
   radius without a scan. It is written here, compiled with numba, rather than taken from FAISS
   (``IndexBinaryMultiHash``, the first version): on the same 1,000,000 codes FAISS answered an
   application's query in about 1.1 s against 13 ms, and self-joined 50,000 codes 68x slower,
   because it runs a range search per code and fixes the substring layout, where ``hashindex``
   picks the layout for the index size and joins bucket with bucket (``make bench`` measures
   both). A texture (a brick wall, gravel: little of its variance left at 32x32), whose window
   hashes a crop scrambles, is also paired with the textures most like it (``pairs``).
2. Verification. For each candidate pair, SIFT keypoints on 256-pixel greyscale thumbnails are
   matched and an axis-aligned model (x' = sx*x + tx, y' = sy*y + ty: resize and crop, with the
   mirror tried explicitly) is fitted by RANSAC. The pair is the same photograph only when one
   frame lies inside the other and covers >= ~80% of it (a crop), and the aligned pixels agree
   after normalising brightness and contrast (nothing moved). A neighbouring shot fails the
   containment test; another moment fails the pixel test.

Decoding is the cost of fingerprinting, so JPEGs are decoded at reduced size: a 12-megapixel
photo at 1/8 scale from its DC coefficients alone (``jpegdc``), others through libjpeg's DCT
scaling (``Image.draft``). Fingerprints are keyed by content (``content_key``, the bytes' BLAKE3
digest) and kept in ``FingerprintCache`` (SQLite) so a file is fingerprinted once ever.

No Django imports here: the CLI, a worker or a notebook can use this module as it is.

Modules: ``fingerprint`` (PhotoPrint, window codes, EXIF views), ``cache`` (fingerprints on
disk by content), ``hashindex`` (the multi-index Hamming search), ``verify`` (``compare``) and
``pairs`` (``find_duplicate_pairs`` for a bundle, ``PhotoIndex`` for the platform's incremental
screening). The names below are the package's interface; the rest is internal to its modules.
"""

from .cache import FingerprintCache, fingerprint_file
from .fingerprint import (
    CANDIDATE_RADIUS,
    EXTRA_RADIUS,
    EXTRA_WINDOWS,
    MAX_PHOTO_BYTES,
    MAX_PIXELS,
    SUPPORTED_FORMATS,
    THUMB_SIDE,
    WINDOWS,
    PhotoError,
    PhotoPrint,
    content_key,
    fingerprint_bytes,
    upright_view,
)
from .hashindex import HashIndex, hamming
from .pairs import PhotoIndex, find_duplicate_pairs
from .verify import compare

__all__ = [
    "CANDIDATE_RADIUS",
    "EXTRA_RADIUS",
    "EXTRA_WINDOWS",
    "MAX_PHOTO_BYTES",
    "MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "THUMB_SIDE",
    "WINDOWS",
    "FingerprintCache",
    "HashIndex",
    "PhotoError",
    "PhotoIndex",
    "PhotoPrint",
    "compare",
    "content_key",
    "find_duplicate_pairs",
    "fingerprint_bytes",
    "fingerprint_file",
    "hamming",
    "upright_view",
]
