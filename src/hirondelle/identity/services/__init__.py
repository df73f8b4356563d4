"""The directory's services: every command and page calls these, never the models directly."""
