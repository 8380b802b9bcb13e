// The API, as promises of parsed JSON; a failure is an Error with the server's own message.

export async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  let response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' } });
  } catch {
    throw new Error('the server cannot be reached');
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(body?.error ?? `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

/** Types with a page on discogs.com and a record at /api/{type}s/{id}. */
export const RECORD_TYPES = ['artist', 'label', 'master', 'release'];
/** Types /api/explore centres on. */
export const EXPLORABLE = ['artist', 'label', 'genre', 'style'];
/** Types /api/trends answers for. */
export const TRENDING = EXPLORABLE;
