"""Japan: local-government codes, JMA area codes, and the CAP profile used in Japan."""
