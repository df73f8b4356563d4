"""Portal-only logic: web sign-in, browser uploads, charts. Views call these."""
