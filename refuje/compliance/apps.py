from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "refuje.compliance"
    label = "compliance"
