from refuje.common.testing.tenancy import tenant_world

__all__ = ["tenant_world"]
