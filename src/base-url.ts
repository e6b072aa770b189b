/** Where people reach this install: PUBLIC_URL, or http://HOST:PORT (0.0.0.0 read as localhost), no trailing slash. */
export function baseUrlOf(config: { PUBLIC_URL?: string; HOST: string; PORT: number }): string {
  const base =
    config.PUBLIC_URL ?? `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`;
  return base.replace(/\/+$/, "");
}

/**
 * The base of links the server puts in emails and pages (invitations, password resets, setup): PUBLIC_URL,
 * else the address this server really listens on (`listening`, set once it listens: port 0 gives its real
 * port), else HOST:PORT from the configuration. Never the request's Host header, which a client chooses.
 */
export function linkBase(deps: {
  config: { PUBLIC_URL?: string; HOST: string; PORT: number };
  listening?: string;
}): string {
  if (deps.config.PUBLIC_URL) return baseUrlOf(deps.config);
  return (deps.listening ?? baseUrlOf(deps.config)).replace(/\/+$/, "");
}
