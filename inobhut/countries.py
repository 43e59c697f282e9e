"""German names of countries (ISO 3166-1 alpha-3) for everything a user reads.

Belongs here: the one mapping code -> German name, from pycountry's German translation (gettext
domain ``iso3166-1``), preferring the common name ("Syrien", not "Syrien, Arabische Republik"),
plus the special codes of the delivery format (``XXA`` staatenlos, ``XXX`` ungeklärt). Not here:
which codes are valid (``schemas.pandera_schemas``).
"""

from __future__ import annotations

import gettext
from functools import lru_cache

#: the delivery format's codes outside ISO 3166-1 (spec delivery.md) and their German names
SPECIAL_NAMES: dict[str, str] = {"XXA": "staatenlos", "XXX": "ungeklärt"}


@lru_cache(maxsize=1)
def _german():
    import pycountry

    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"]).gettext


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """German name of an alpha-3 code; the code itself if it is unknown."""
    code = (code or "").strip().upper()
    if code in SPECIAL_NAMES:
        return SPECIAL_NAMES[code]
    import pycountry

    c = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
    if c is None:
        return code
    return _german()(getattr(c, "common_name", None) or c.name)
