"""Offline geocoding of ship-to postal codes (US ZIP codes from the `zipcodes` package)."""

from __future__ import annotations

import re
from functools import lru_cache

import zipcodes

from service.domain.sourcing import UnknownPostalCode

_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")
SUPPORTED_COUNTRIES = ("US",)


def geocode_postal_code(postal_code: str, country: str = "US") -> tuple[float, float]:
    """(lat, lon) of a postal code; ZIP and ZIP+4 are accepted, surrounding spaces ignored."""
    code = (postal_code or "").strip() if isinstance(postal_code, str) else ""
    country_code = (country or "").strip().upper() if isinstance(country, str) else ""
    if country_code not in SUPPORTED_COUNTRIES:
        raise UnknownPostalCode(
            str(postal_code), str(country), "only US ZIP codes can be geocoded offline"
        )
    match = _ZIP.match(code)
    if match is None:
        raise UnknownPostalCode(code, country_code, 'expected "#####" or "#####-####"')
    found = _lookup_zip(match.group(1))
    if found is None:
        raise UnknownPostalCode(code, country_code, "no such ZIP code")
    return found


@lru_cache(maxsize=65536)
def _lookup_zip(zip5: str) -> tuple[float, float] | None:
    rows = zipcodes.matching(zip5)
    for row in rows:
        if row.get("lat") not in (None, "") and row.get("long") not in (None, ""):
            return float(row["lat"]), float(row["long"])
    return None
