/** Where the page is (route from location.pathname) and who is looking (the token). */

export type Route =
  | { view: 'rooms' }
  | { view: 'operator' | 'host' | 'buyer'; room: string }
  | { view: 'not-found' };

const ROOM_VIEW = /^\/(operator|host|buyer)\/([A-Za-z0-9_.-]{1,64})\/?$/;

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '/rooms' || pathname === '/rooms/' || pathname === '/index.html') {
    return { view: 'rooms' };
  }
  const m = ROOM_VIEW.exec(pathname);
  if (!m) return { view: 'not-found' };
  return { view: m[1] as 'operator' | 'host' | 'buyer', room: m[2] };
}

const TOKEN_KEY = 'crest.token';

/**
 * Takes `?token=` out of the address bar into sessionStorage, so the token does not linger in history
 * or screenshots and a reload still works. Other query parameters (transparent=1, currency) stay.
 */
export function takeToken(): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
      url.searchParams.delete('token');
      history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    } catch {
      // No sessionStorage (some embedded browsers): keep the token in the URL so a reload still works.
    }
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** A link to another view that carries the same token (a new tab has its own sessionStorage). */
export function viewHref(path: string, token: string | null, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams(extra);
  if (token) q.set('token', token);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
