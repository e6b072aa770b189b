/** Who hears about an organisation's credit holds and customers' actions: its owner address, else OWNER_EMAIL. */
import type { Config } from "../config";
import type { ReminderSettings } from "../store/reminder-settings";

export function ownerAddress(
  settings: Pick<ReminderSettings, "ownerEmail">,
  config: Pick<Config, "OWNER_EMAIL">,
): string | null {
  return settings.ownerEmail ?? config.OWNER_EMAIL ?? null;
}
