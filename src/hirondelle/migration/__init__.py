"""A person's imported graph and posts, the plan, and the runs that carry it out exactly once."""
