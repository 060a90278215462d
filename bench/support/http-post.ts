/**
 * A lean keep-alive HTTP client for POST /api/v1/events (node:http, no per-request fetch machinery), so
 * the generator costs little CPU next to the server it loads.
 */
import { Agent, request } from 'node:http';

export interface PostOutcome {
  status: number;
  accepted: number;
  duplicate: number;
  rejected: number;
}

export class EventPoster {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly auth: string;

  constructor(baseUrl: string, token: string, maxSockets: number) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.auth = `Bearer ${token}`;
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** POSTs a JSON array body; resolves with the status and the counts the server reported. */
  post(body: string): Promise<PostOutcome> {
    return new Promise((ok, fail) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method: 'POST',
          path: '/api/v1/events',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: this.auth },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            let r = { accepted: 0, duplicate: 0, rejected: 0 };
            if (status === 200 || status === 400) {
              try {
                r = JSON.parse(Buffer.concat(chunks).toString()) as typeof r;
              } catch {
                /* counted as a non-JSON answer below: accepted stays 0 */
              }
            }
            ok({ status, accepted: r.accepted, duplicate: r.duplicate, rejected: r.rejected });
          });
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
