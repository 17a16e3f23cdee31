"""The users service: registration, login (argon2), profiles, admin listing (MySQL)."""
