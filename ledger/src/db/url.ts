// PostgreSQL connection URLs with one host or several. A replicated cluster is reached with libpq's
// multi-host form, postgres://user@h1:p1,h2:p2/db?target_session_attrs=read-write (docs/operations.md,
// "Replication and failover"), which WHATWG `new URL()` refuses ("h1:p1,h2:p2" is no host). These helpers
// read and edit such a URL through its first host and put the whole list back. No imports: the
// configuration parsers use them too.

/** One host of a URL: a name or an address (an IPv6 one without its brackets), and its port. */
export interface UrlHost {
  host: string;
  port: number;
}

// scheme://[userinfo@]hosts[/path][?query][#fragment]
const POSTGRES_URL = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/s;

/** The host list of a postgres: URL ("h1:p1,h2:p2"), or null when `url` is not one with several hosts. */
function hostList(url: string): { scheme: string; userinfo: string | undefined; hosts: string[]; rest: string } | null {
  const m = POSTGRES_URL.exec(url);
  if (!m || !m[3]!.includes(',')) return null;
  return { scheme: m[1]!, userinfo: m[2], hosts: m[3]!.split(','), rest: m[4]! };
}

/** Whether `url` names several hosts (a replicated cluster). */
export function isMultiHost(url: string): boolean {
  return hostList(url) !== null;
}

/** The same URL with only its `index`-th host: what WHATWG URL parsers, node-postgres and psql's single host take. */
export function singleHostUrl(url: string, index = 0): string {
  const list = hostList(url);
  if (!list) return url;
  const host = list.hosts[index];
  if (host === undefined) throw new RangeError(`the URL has ${list.hosts.length} hosts, not ${index + 1}`);
  return `${list.scheme}${list.userinfo === undefined ? '' : `${list.userinfo}@`}${host}${list.rest}`;
}

/** Every host of the URL with its port (5432 when none is written), in order. */
export function urlHosts(url: string): UrlHost[] {
  const count = hostList(url)?.hosts.length ?? 1;
  return Array.from({ length: count }, (_, i) => {
    const u = new URL(singleHostUrl(url, i));
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port === '' ? 5432 : Number(u.port) };
  });
}

/** "h1:p1,h2:p2": the URL's hosts as written, for messages (no user name, no password). */
export function urlHostsText(url: string): string {
  return hostList(url)?.hosts.join(',') ?? new URL(url).host;
}

/**
 * `url` edited through WHATWG URL (user, password, path, query), its host list kept as it was. Editing the
 * host itself is not supported on a multi-host URL (the edit would apply to the first host only).
 */
export function editUrl(url: string, edit: (u: URL) => void): string {
  const list = hostList(url);
  const u = new URL(singleHostUrl(url));
  edit(u);
  if (!list) return u.toString();
  const userinfo = u.username === '' ? '' : `${u.username}${u.password === '' ? '' : `:${u.password}`}@`;
  return `${u.protocol}//${userinfo}${list.hosts.join(',')}${u.pathname}${u.search}${u.hash}`;
}
