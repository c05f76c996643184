from django.urls import path

from sales.api import partner_views as views

app_name = "partner"

urlpatterns = [
    path("orders/", views.PartnerOrderListCreate.as_view(), name="orders"),
    path("orders/<str:number>/", views.PartnerOrderDetail.as_view(), name="order-detail"),
    path("orders/<str:number>/tracking/", views.PartnerOrderTracking.as_view(),
         name="order-tracking"),
    path("orders/<str:number>/cancel/", views.PartnerOrderCancel.as_view(), name="order-cancel"),
    path("orders/<str:number>/returns/", views.PartnerOrderReturns.as_view(),
         name="order-returns"),
    path("stock/", views.PartnerStock.as_view(), name="stock"),
]
