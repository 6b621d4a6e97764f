package contract

// AuthTokenLength is the length of every Auth Token.
const AuthTokenLength = 32

// ValidAuthToken reports whether s is an Auth Token: 32 characters, each an
// ASCII letter, a digit, '.', '_' or '-'. Nothing else is ever issued, so a
// secret of any other shape came from a broken or hostile server (or a
// mistyped configuration): printed under GitHub Actions it could carry
// workflow commands (a newline, "::") or slip past the log's mask ('%'
// escapes), and written to a file it would never authenticate.
func ValidAuthToken(s string) bool {
	if len(s) != AuthTokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
