"""Country names in German wherever a user reads them (spec delivery.md: German names)."""

import pandas as pd

from inobhut.countries import SPECIAL_NAMES, country_name
from inobhut.tables import merkmal_labels
from schemas.pandera_schemas import ISO3_SPECIAL


def test_german_common_names():
    assert country_name("SYR") == "Syrien"
    assert country_name("TUR") == "Türkei"
    assert country_name("IRQ") == "Irak"
    assert country_name("afg") == "Afghanistan"
    assert country_name("XXA") == "staatenlos" and country_name("XXX") == "ungeklärt"
    assert country_name("QQQ") == "QQQ"  # unknown: the code, never a failure
    assert set(SPECIAL_NAMES) == set(ISO3_SPECIAL)


def test_uma_structure_table_labels_countries_in_german():
    df = pd.DataFrame({"merkmal": ["staatsangehoerigkeit"] * 4, "auspraegung": ["SYR", "ERI", "XXX", "sonstige"]})
    labels = merkmal_labels(df)["auspraegung"].tolist()
    assert labels[:3] == ["Syrien", "Eritrea", "ungeklärt"]
    assert "Syrian Arab Republic" not in labels
