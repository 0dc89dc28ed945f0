"""Monitoring: drift against the champion's training profile, performance on delayed labels, segments."""
