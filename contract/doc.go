// Package contract holds the Token API's rules that both ends enforce: field limits,
// the characters a string field may hold, and the shapes of SIDs and e-mail
// addresses. The server refuses what breaks them; the CLI checks the same rules before
// it asks a question or sends a request, so a refusal never comes after a "yes".
//
// It imports nothing from the server, the client or the commands, so all of them may
// import it.
package contract
