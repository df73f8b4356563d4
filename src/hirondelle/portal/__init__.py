"""The web pages. Views stay thin: they call the services of identity and migration."""
