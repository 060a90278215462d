/**
 * Loads `tiktok-live-connector` at run time, only when a TikTok connector is asked for. The package is
 * AGPL-3.0, so Crest does not depend on it (it is a devDependency, for Crest's own tests): a user who
 * wants the connector installs it next to Crest, and the licence question is theirs to weigh. Nothing
 * else in Crest imports it, statically or by type.
 */

/** The parts of the package the connector uses, declared structurally (no type import of the package). */
export interface TikTokConnectionLike {
  connect(roomId?: string): Promise<{ roomId?: string } | unknown>;
  disconnect(): Promise<void>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  readonly roomId: string;
}

export interface TikTokPackage {
  TikTokLiveConnection: new (uniqueId: string, options: Record<string, unknown>) => TikTokConnectionLike;
  UserOfflineError?: new (...args: any[]) => Error;
  InvalidUniqueIdError?: new (...args: any[]) => Error;
  SignatureRateLimitError?: new (...args: any[]) => Error & { retryAfter?: number };
  PremiumFeatureError?: new (...args: any[]) => Error;
  VERSION?: string;
}

export const TIKTOK_PACKAGE = 'tiktok-live-connector';

/** The package is not installed (or does not load): the message says what to do. */
export class TikTokPackageMissingError extends Error {
  override name = 'TikTokPackageMissingError';
  constructor(cause?: unknown) {
    super(
      `the TikTok connector needs the optional package "${TIKTOK_PACKAGE}", which Crest does not ship: ` +
        `install it yourself with \`npm install ${TIKTOK_PACKAGE}\` (AGPL-3.0; read its licence before you deploy it)` +
        (cause instanceof Error && !isNotFound(cause) ? ` — it is installed but failed to load: ${cause.message}` : ''),
    );
  }
}

/** Imports the package; `importer` is for tests. Throws TikTokPackageMissingError. */
export async function loadTikTokPackage(importer: (specifier: string) => Promise<unknown> = (s) => import(s)): Promise<TikTokPackage> {
  let mod: unknown;
  try {
    // A variable specifier: bundlers and the type checker must not pull the package in.
    const specifier: string = TIKTOK_PACKAGE;
    mod = await importer(specifier);
  } catch (err) {
    throw new TikTokPackageMissingError(err);
  }
  const pkg = mod as Partial<TikTokPackage>;
  if (typeof pkg?.TikTokLiveConnection !== 'function') {
    throw new TikTokPackageMissingError(new Error(`it exports no TikTokLiveConnection (Crest was written against version 2.x)`));
  }
  return pkg as TikTokPackage;
}

function isNotFound(err: Error): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(err.message);
}
