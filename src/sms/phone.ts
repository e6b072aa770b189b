/**
 * Phone numbers for SMS: parsed and normalised to E.164 with libphonenumber-js, and refused with a reason a
 * person can act on when they are not a mobile number. A number written without its country code is read in
 * the customer's (or else the organisation's) country.
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/min";
import { parsePhoneNumberFromString as parseMobile } from "libphonenumber-js/mobile";

export type PhoneCheck = { ok: true; e164: string } | { ok: false; reason: string };

/** `raw` as an E.164 mobile number (`+447400123456`), or why it cannot take an SMS. */
export function mobileNumber(raw: string | null | undefined, defaultCountry?: string | null): PhoneCheck {
  const text = (raw ?? "").trim();
  if (!text) return { ok: false, reason: "no phone number" };
  const country =
    defaultCountry && isSupportedCountry(defaultCountry.toUpperCase())
      ? (defaultCountry.toUpperCase() as CountryCode)
      : undefined;
  const any = parsePhoneNumberFromString(text, country);
  if (!any) {
    return {
      ok: false,
      reason: country
        ? `"${text}" is not a phone number`
        : `"${text}" is not a phone number in international form (+ and country code)`,
    };
  }
  if (!any.isValid())
    return { ok: false, reason: `"${text}" is not a valid +${any.countryCallingCode} number` };
  const mobile = parseMobile(text, country);
  if (!mobile?.isValid()) return { ok: false, reason: `${any.number} is not a mobile number` };
  return { ok: true, e164: mobile.number };
}
