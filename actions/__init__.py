"""The action server (rasa-sdk), split by area. Keep imports light: rasa-sdk imports every module here."""
