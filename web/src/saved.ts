/**
 * What survives a page reload: the chosen name, the rooms the reader is in, and the
 * server's resume token (it gives the name back after a restart or a dropped network).
 */
const NAME = 'plugboard.name';
const ROOMS = 'plugboard.rooms';
const TOKEN = 'plugboard.token';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled (private mode, sandboxed frame)
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // not fatal: the page still works, it just forgets on reload
  }
}

export function name(): string | null {
  return read(NAME);
}

export function setName(value: string): void {
  write(NAME, value);
}

export function rooms(): string[] {
  try {
    const list = JSON.parse(read(ROOMS) ?? '[]') as unknown;
    return Array.isArray(list) ? list.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberRoom(room: string): void {
  const list = rooms();
  if (!list.some((r) => r.toLowerCase() === room.toLowerCase()))
    write(ROOMS, JSON.stringify([...list, room]));
}

export function forgetRoom(room: string): void {
  write(ROOMS, JSON.stringify(rooms().filter((r) => r.toLowerCase() !== room.toLowerCase())));
}

/** A remembered room took a new name: it keeps its place in the list. */
export function renameRoom(from: string, to: string): void {
  write(
    ROOMS,
    JSON.stringify(rooms().map((r) => (r.toLowerCase() === from.toLowerCase() ? to : r))),
  );
}

export function token(): string | null {
  return read(TOKEN);
}

export function setToken(value: string): void {
  write(TOKEN, value);
}
