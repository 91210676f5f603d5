// MongoDB (and FerretDB) refuse `.` and a leading `$` in keys, and FerretDB nested arrays; customers
// send both. Keys are encoded with look-alike full-width characters, reversibly.
const DOT = '\uff0e';
const DOLLAR = '\uff04';
/** An empty key is refused too: it is stored as this one character (from the private use area). */
const EMPTY = '\ue000';

export function encodeKey(key: string): string {
  if (key === '') return EMPTY;
  return key.replaceAll('.', DOT).replace(/^\$/, DOLLAR);
}

export function decodeKey(key: string): string {
  if (key === EMPTY) return '';
  return key.replaceAll(DOT, '.').replace(new RegExp(`^${DOLLAR}`), '$');
}

/** Encodes every key of a JSON value; an array inside an array is stored as its JSON text. */
export function encodeValue(value: unknown, insideArray = false): unknown {
  if (Array.isArray(value)) {
    return insideArray ? JSON.stringify(value) : value.map((item) => encodeValue(item, true));
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [encodeKey(key), encodeValue(item)]),
    );
  }
  return value;
}

export function decodeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [decodeKey(key), decodeValue(item)]),
    );
  }
  return value;
}
