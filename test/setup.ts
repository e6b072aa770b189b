// Shared test setup. Tests that talk HTTP start msw themselves (test/support/msw.ts) with
// onUnhandledRequest: "error", so any unplanned network call fails the test.
process.env.TZ = "UTC";
