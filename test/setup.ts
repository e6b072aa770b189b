// Shared test setup. Tests that talk HTTP to a provider start msw themselves (`setupServer()` from msw/node,
// with the fake providers' handlers, test/support/fake-routes.ts) and listen with onUnhandledRequest: "error",
// so any unplanned network call fails the test. (The send-now browser test listens with "bypass": it also
// talks to its own local server.)
process.env.TZ = "UTC";
