import { describe, expect, it } from "vitest";
import { checkSchedule, isoWeekKey, statementDue } from "../../src/statements/schedule";

const weekdays =
  (holidays: string[] = []) =>
  (d: string) => {
    const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
    return wd !== 0 && wd !== 6 && !holidays.includes(d);
  };

describe("monthly statements", () => {
  const monthly = (day: number) => ({ every: "month" as const, day });

  it.each([
    {
      label: "on the day",
      day: 1,
      today: "2026-12-01",
      out: { due: true, period: "2026-12", day: "2026-12-01" },
    },
    {
      label: "moved off a Sunday to Monday",
      day: 1,
      today: "2026-11-01",
      out: { due: false, next: "2026-11-02" },
    },
    {
      label: "sent the Monday",
      day: 1,
      today: "2026-11-02",
      out: { due: true, period: "2026-11", day: "2026-11-02" },
    },
    {
      label: "the 31st in February is its last day, moved into March but still February's",
      day: 31,
      today: "2026-03-02",
      out: { due: true, period: "2026-02", day: "2026-03-02" },
    },
    {
      label: "caught up within a week",
      day: 1,
      today: "2026-12-08",
      out: { due: true, period: "2026-12", day: "2026-12-01" },
    },
    {
      label: "not sent more than a week late",
      day: 1,
      today: "2026-12-09",
      out: { due: false, next: "2027-01-01" },
    },
  ])("$label", ({ day, today, out }) => {
    expect(statementDue(monthly(day), today, weekdays())).toEqual(out);
  });

  it("skips public holidays and the weekend between them", () => {
    const christmas = weekdays(["2026-12-25", "2026-12-28"]);
    expect(statementDue(monthly(25), "2026-12-25", christmas)).toEqual({ due: false, next: "2026-12-29" });
    expect(statementDue(monthly(25), "2026-12-29", christmas)).toEqual({
      due: true,
      period: "2026-12",
      day: "2026-12-29",
    });
  });
});

describe("weekly statements", () => {
  it("belong to the ISO week of their day", () => {
    expect(statementDue({ every: "week", weekday: 1 }, "2026-12-02", weekdays())).toEqual({
      due: true,
      period: "2026-W49",
      day: "2026-11-30",
    });
    expect(statementDue({ every: "week", weekday: 5 }, "2026-12-02", weekdays())).toEqual({
      due: true,
      period: "2026-W48",
      day: "2026-11-27",
    });
  });

  it.each([
    ["2026-12-31", "2026-W53"],
    ["2027-01-01", "2026-W53"],
    ["2027-01-04", "2027-W01"],
    ["2024-12-30", "2025-W01"],
    ["2026-01-01", "2026-W01"],
  ])("%s is in %s", (date, key) => {
    expect(isoWeekKey(date)).toBe(key);
  });
});

describe("schedule validation", () => {
  it.each([
    [{ every: "month", day: 0 }, "the day of the month must be a whole number from 1 to 31"],
    [{ every: "month", day: 1.5 }, "the day of the month must be a whole number from 1 to 31"],
    [{ every: "week", weekday: 8 }, "the weekday must be 1 (Monday) to 7 (Sunday)"],
    [{ every: "month", day: 31 }, null],
    [{ every: "week", weekday: 7 }, null],
  ] as const)("%j: %s", (schedule, message) => {
    expect(checkSchedule(schedule)).toBe(message);
  });
});
