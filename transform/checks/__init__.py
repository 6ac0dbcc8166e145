"""What a report says about itself: identity checks, prose cross-checks, validation."""
