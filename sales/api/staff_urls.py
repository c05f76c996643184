from rest_framework.routers import SimpleRouter

from sales.api import staff_views as views

app_name = "staff"

router = SimpleRouter()
router.register("orders", views.StaffOrderViewSet, basename="order")
router.register("channels", views.StaffChannelViewSet, basename="channel")
router.register("skus", views.StaffSkuViewSet, basename="sku")
router.register("stock-levels", views.StaffStockLevelViewSet, basename="stock-level")

urlpatterns = router.urls
