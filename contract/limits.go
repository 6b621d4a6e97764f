package contract

// Limits on token fields and requests.
const (
	MaxName        = 100  // characters in a token's Name
	MaxDescription = 1000 // characters in a token's Description
	MaxEmails      = 50   // addresses in a token's DeveloperEmails
	MaxEmailLength = 254  // bytes in one address
	MaxBulk        = 100  // SIDs in one bulk request
	MaxPageSize    = 1000 // PageSize of a list
	MaxPage        = 1_000_000
)
