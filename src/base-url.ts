/** Where people reach this install: PUBLIC_URL, or http://HOST:PORT (0.0.0.0 read as localhost), no trailing slash. */
export function baseUrlOf(config: { PUBLIC_URL?: string; HOST: string; PORT: number }): string {
  const base =
    config.PUBLIC_URL ?? `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`;
  return base.replace(/\/+$/, "");
}
