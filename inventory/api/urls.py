from django.urls import path
from rest_framework.routers import SimpleRouter

from inventory.api import views

router = SimpleRouter()
router.register("listings", views.ListingViewSet, basename="listing")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("suggestions", views.SuggestionViewSet, basename="suggestion")

urlpatterns = [
    path("stock-statement/", views.StockStatementView.as_view(), name="stock-statement"),
    path("stocktakes/<str:number>/counts/", views.StocktakeCountsView.as_view(),
         name="stocktake-counts"),
    *router.urls,
]
