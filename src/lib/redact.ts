// Credentials in repository URLs (https://user:token@host/...) are kept where git needs them
// (the store, the clone's remote) and taken out of everything shown or logged.

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]+@/gi

/** Text with the user/password part of every URL in it replaced by `***`. */
export function redactCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@')
}
