"""The browser interface: the operator console (/console) and the public pages (/)."""
