"""Area search the way customers type: district numbers in Arabic or Roman
numerals, Hungarian word order, accents optional, postcodes, the other names
ops give an area; one match opens the area, with or without JavaScript."""

import pytest
from django.contrib.auth import get_user_model

from outages import search_terms
from outages.models import ServiceArea

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def budapest():
    region = factories.region("Budapest", slug="budapest")
    areas = {
        n: factories.area(
            f"Budapest District {numeral}",
            slug=f"budapest-district-{n}",
            region_obj=region,
            postcodes=f"1{n:02d}1, 1{n:02d}2",
        )
        for n, numeral in [(1, "I"), (5, "V"), (13, "XIII"), (15, "XV"), (23, "XXIII")]
    }
    areas["godollo"] = factories.area("Gödöllő", slug="godollo", postcodes="2100")
    return areas


def test_roman_numerals_up_to_fifty_read_as_numbers_and_words_stay_words():
    assert [search_terms.roman(word) for word in ["i", "iv", "v", "ix", "xiii", "xxiii", "xl", "xlix"]] == [
        1,
        4,
        5,
        9,
        13,
        23,
        40,
        49,
    ]
    assert [search_terms.roman(word) for word in ["mix", "civic", "vac", "iiii", "vv", "", "li"]] == [None] * 7
    assert search_terms.words("V. kerület") == ["5", "district"]
    assert search_terms.words("Gödöllő, 5. ker.") == ["godollo", "5", "district"]


@pytest.mark.parametrize(
    "typed",
    [
        "District 5",
        "district v",
        "V. kerület",
        "5. kerület",
        "V kerulet",
        "Budapest V",
        "budapest district 05",
        "5 ker",
    ],
)
def test_district_five_is_found_however_it_is_written(client, budapest, typed):
    response = client.get("/search/", {"q": typed})
    assert response.status_code == 302 and response["Location"] == "/areas/budapest-district-5/", typed


def test_a_number_matches_whole_so_district_1_is_not_district_13_or_15(client, budapest):
    response = client.get("/search/", {"q": "District 1"}, headers={"HX-Request": "true"})
    assert 'id="area-row-budapest-district-1"' in response.text
    assert "budapest-district-13" not in response.text and "budapest-district-15" not in response.text


def test_accents_are_optional(client, budapest):
    for typed in ["godollo", "Godollo", "GÖDÖLLŐ", "gödö"]:
        response = client.get("/search/", {"q": typed})
        assert response.status_code == 302 and response["Location"] == "/areas/godollo/", typed


def test_a_postcode_opens_its_area(client, budapest):
    response = client.get("/search/", {"q": "1132"})
    assert response["Location"] == "/areas/budapest-district-13/"


def test_an_alias_ops_added_is_found(client, budapest):
    area = budapest[5]
    area.aliases = "Lipótváros, Belváros\nInner City"
    area.save()
    for typed in ["lipotvaros", "Belváros", "inner city"]:
        response = client.get("/search/", {"q": typed})
        assert response.status_code == 302 and response["Location"] == "/areas/budapest-district-5/", typed


def test_renaming_through_save_with_update_fields_keeps_the_search_in_step(client, budapest):
    area = budapest["godollo"]
    area.name = "Gödöllő town"
    area.aliases = "Blaha"
    area.save(update_fields=["name", "aliases"])
    assert ServiceArea.objects.get(pk=area.pk).search_terms == " blaha godollo town "


def test_several_matches_list_them_and_the_active_search_lists_a_single_one_too(client, budapest):
    several = client.get("/search/", {"q": "district"})
    assert several.status_code == 200 and several.text.count('class="area-row') == 5
    typing = client.get("/search/", {"q": "District 5"}, headers={"HX-Request": "true"})
    assert typing.status_code == 200 and typing.text.count('class="area-row') == 1
    nothing = client.get("/search/", {"q": "Atlantis"})
    assert nothing.status_code == 200 and "No area matches" in nothing.text


def test_ops_edit_the_other_names_in_the_admin(client, budapest):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(admin)
    area = budapest[13]
    page = client.get(f"/admin/outages/servicearea/{area.pk}/change/")
    assert page.status_code == 200 and 'name="aliases"' in page.text
    found = client.get("/admin/outages/servicearea/", {"q": "Angyalföld"})
    assert "Budapest District XIII" not in found.text
    area.aliases = "Angyalföld"
    area.save()
    found = client.get("/admin/outages/servicearea/", {"q": "Angyalföld"})
    assert "Budapest District XIII" in found.text
