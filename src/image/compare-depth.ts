// How many path components `couplet inspect A B` cuts a folder to by default: its own module, so that inspect's
// --help can show it without loading the comparison (and node:crypto) when one image is inspected.
export const DEFAULT_DEPTH = 3;
