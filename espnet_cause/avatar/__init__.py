"""Avatars: ARKit curves, Live Link Face over UDP, visemes and head motion for animation tools."""
