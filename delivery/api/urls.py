from django.urls import path

from delivery.api import views

courier_urlpatterns = [
    path("token/", views.CourierToken.as_view(), name="courier-token"),
    path("route/", views.CourierRoute.as_view(), name="courier-route"),
    path("location/", views.CourierLocation.as_view(), name="courier-location"),
    path("deliveries/<int:pk>/pickup/", views.CourierPickup.as_view(), name="courier-pickup"),
    path("deliveries/<int:pk>/events/", views.CourierStatusEvent.as_view(),
         name="courier-event"),
    path("deliveries/<int:pk>/deliver/", views.CourierDeliver.as_view(), name="courier-deliver"),
    path("deliveries/<int:pk>/fail/", views.CourierFail.as_view(), name="courier-fail"),
    path("deliveries/<int:pk>/rating/", views.CourierRating.as_view(), name="courier-rating"),
]

staff_urlpatterns = [
    path("deliveries/<int:pk>/move/", views.StaffDeliveryMove.as_view(), name="staff-move"),
    path("shipments/", views.StaffShipmentCreate.as_view(), name="staff-shipments"),
    path("shipments/events/", views.StaffShipmentEvent.as_view(), name="staff-shipment-event"),
    path("shipments/events/import/", views.StaffShipmentEventImport.as_view(),
         name="staff-shipment-import"),
    path("carriers/suggest/", views.StaffCarrierSuggest.as_view(), name="staff-carrier-suggest"),
]
