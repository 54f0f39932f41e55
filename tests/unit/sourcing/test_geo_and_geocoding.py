import pytest

from service.domain.geo import haversine_km
from service.domain.sourcing import UnknownPostalCode
from service.services.orders.geocoding import geocode_postal_code


def test_haversine_of_a_point_to_itself_is_zero():
    assert haversine_km(40.0, -74.0, 40.0, -74.0) == 0.0


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        ((40.7128, -74.0060), (34.0522, -118.2437), 3936),  # New York - Los Angeles
        ((51.5074, -0.1278), (48.8566, 2.3522), 344),  # London - Paris
        ((0.0, 0.0), (0.0, 180.0), 20015),  # half the equator
    ],
)
def test_haversine_matches_known_distances_within_half_a_percent(a, b, km):
    assert haversine_km(*a, *b) == pytest.approx(km, rel=0.005)


def test_haversine_is_symmetric():
    assert haversine_km(10, 20, -30, 40) == pytest.approx(haversine_km(-30, 40, 10, 20))


def test_geocoding_a_real_zip_gives_its_coordinates():
    lat, lon = geocode_postal_code("10001")
    assert lat == pytest.approx(40.75, abs=0.05)
    assert lon == pytest.approx(-74.0, abs=0.05)


@pytest.mark.parametrize("code", ["10001-1234", " 10001 ", "100011234"])
def test_geocoding_accepts_zip_plus_four_and_surrounding_spaces(code):
    assert geocode_postal_code(code) == geocode_postal_code("10001")


@pytest.mark.parametrize("code", ["00000", "abcde", "1234", "123456", ""])
def test_geocoding_an_unknown_code_raises_naming_it(code):
    with pytest.raises(UnknownPostalCode) as raised:
        geocode_postal_code(code)
    assert raised.value.code == "unknown_postal_code"
    assert raised.value.postal_code == code.strip()


def test_geocoding_another_country_is_an_unknown_postal_code_with_a_clear_message():
    with pytest.raises(UnknownPostalCode, match="only US"):
        geocode_postal_code("10001", "CA")


def test_geocoding_accepts_a_lowercase_country():
    assert geocode_postal_code("10001", "us") == geocode_postal_code("10001")
