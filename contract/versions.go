package contract

// API versions a token may be set to, by the API it calls: agency tokens call the
// Agency API, brand tokens the Brand API. A token's version only goes up.
const (
	MinAgencyVersion = 2
	MaxAgencyVersion = 3
	MinBrandVersion  = 11
	MaxBrandVersion  = 14
)

// APIVersions returns the lowest and the latest API version of a brand token
// (brand true) or an agency token.
func APIVersions(brand bool) (lowest, latest int) {
	if brand {
		return MinBrandVersion, MaxBrandVersion
	}
	return MinAgencyVersion, MaxAgencyVersion
}
